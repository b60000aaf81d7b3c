/**
 * Department tables. Codes that appear in the platforms' documents are kept (数学科学学院 0155,
 * 计算机科学与技术学院 015901, 信息化治理办公室 0445, 网络中心 041601, 运动训练系 011004,
 * 汉语言系 015401); the rest are made up in the same shape.
 */

export interface Major {
  code: string;
  name: string;
}

export interface Department {
  id: string;
  name: string;
  /** Empty for offices: students are only placed in departments that teach. */
  majors: readonly Major[];
}

export const ecnuDepartments: readonly Department[] = [
  {
    id: '0155',
    name: '数学科学学院',
    majors: [
      { code: '0701', name: '数学与应用数学' },
      { code: '0711', name: '统计学' },
    ],
  },
  {
    id: '015901',
    name: '计算机科学与技术学院',
    majors: [
      { code: '0809', name: '计算机科学与技术' },
      { code: '5102', name: '计算机技术' },
    ],
  },
  {
    id: '0162',
    name: '物理与电子科学学院',
    majors: [
      { code: '0702', name: '物理学' },
      { code: '0807', name: '电子信息工程' },
    ],
  },
  {
    id: '0168',
    name: '地理科学学院',
    majors: [
      { code: '0705', name: '地理科学' },
      { code: '0708', name: '地理信息科学' },
    ],
  },
  { id: '015401', name: '汉语言系', majors: [{ code: '2720', name: '汉语言' }] },
  { id: '011004', name: '运动训练系', majors: [{ code: '0402', name: '运动训练' }] },
  {
    id: '0151',
    name: '教育学部',
    majors: [
      { code: '0401', name: '教育学' },
      { code: '0402', name: '学前教育' },
    ],
  },
  { id: '0153', name: '心理与认知科学学院', majors: [{ code: '0711', name: '心理学' }] },
  { id: '0157', name: '化学与分子工程学院', majors: [{ code: '0703', name: '化学' }] },
  {
    id: '016003',
    name: '生命科学学院',
    majors: [
      { code: '0710', name: '生物科学' },
      { code: '0713', name: '生态学' },
    ],
  },
  {
    id: '0170',
    name: '经济与管理学院',
    majors: [
      { code: '0201', name: '经济学' },
      { code: '1202', name: '工商管理' },
    ],
  },
  {
    id: '0172',
    name: '外语学院',
    majors: [
      { code: '0502', name: '英语' },
      { code: '0503', name: '日语' },
    ],
  },
  { id: '0174', name: '法学院', majors: [{ code: '0301', name: '法学' }] },
  { id: '0178', name: '软件工程学院', majors: [{ code: '0835', name: '软件工程' }] },
  { id: '0181', name: '音乐学院', majors: [{ code: '1302', name: '音乐学' }] },
  { id: '0445', name: '信息化治理办公室', majors: [] },
  { id: '041601', name: '网络中心', majors: [] },
  { id: '0430', name: '人事处', majors: [] },
  { id: '0440', name: '图书馆', majors: [] },
];

export const ecnuTeaching = ecnuDepartments.filter((d) => d.majors.length > 0);

export const tongjiDepartments: readonly Department[] = [
  {
    id: '000010',
    name: '建筑与城市规划学院',
    majors: [
      { code: '0828', name: '建筑学' },
      { code: '0833', name: '城乡规划' },
    ],
  },
  {
    id: '000020',
    name: '土木工程学院',
    majors: [
      { code: '0810', name: '土木工程' },
      { code: '0801', name: '工程力学' },
    ],
  },
  {
    id: '000030',
    name: '机械与能源工程学院',
    majors: [
      { code: '0802', name: '机械工程' },
      { code: '0807', name: '能源与动力工程' },
    ],
  },
  {
    id: '000040',
    name: '经济与管理学院',
    majors: [
      { code: '1202', name: '工商管理' },
      { code: '0203', name: '金融学' },
    ],
  },
  {
    id: '000050',
    name: '环境科学与工程学院',
    majors: [
      { code: '0830', name: '环境工程' },
      { code: '0706', name: '环境科学' },
    ],
  },
  { id: '000060', name: '材料科学与工程学院', majors: [{ code: '0805', name: '材料科学与工程' }] },
  {
    id: '000070',
    name: '电子与信息工程学院',
    majors: [
      { code: '0809', name: '计算机科学与技术' },
      { code: '0808', name: '自动化' },
    ],
  },
  {
    id: '000080',
    name: '软件学院',
    majors: [
      { code: '0835', name: '软件工程' },
      { code: '0714', name: '数据科学' },
    ],
  },
  { id: '000090', name: '交通运输工程学院', majors: [{ code: '0823', name: '交通运输' }] },
  {
    id: '000110',
    name: '数学科学学院',
    majors: [
      { code: '0701', name: '数学与应用数学' },
      { code: '0711', name: '统计学' },
    ],
  },
  {
    id: '000120',
    name: '外国语学院',
    majors: [
      { code: '0502', name: '英语' },
      { code: '0503', name: '德语' },
    ],
  },
  { id: '000130', name: '医学院', majors: [{ code: '1002', name: '临床医学' }] },
  { id: '000140', name: '设计创意学院', majors: [{ code: '1305', name: '工业设计' }] },
  { id: '000310', name: '人事处', majors: [] },
  { id: '000320', name: '信息化办公室', majors: [] },
  { id: '000330', name: '图书馆', majors: [] },
];

export const tongjiTeaching = tongjiDepartments.filter((d) => d.majors.length > 0);
